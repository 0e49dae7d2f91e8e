export * from './constants';
export * from './selectStrategy';
