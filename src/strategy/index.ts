export * from './presets';
export * from './transfer';
export * from './evaluate';
export * from './embed';
