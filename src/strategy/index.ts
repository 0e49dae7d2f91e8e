export * from './presets';
export * from './transfer';
export * from './evaluate';
