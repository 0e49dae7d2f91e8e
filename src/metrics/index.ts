export * from './mmd';
export * from './coral';
export * from './proxyADistance';
export * from './logme';
export * from './leep';
export * from './hScore';
export * from './nce';
