export * from './presets';
export * from './transfer';
export * from './evaluate';
export * from './embed';
export * from './adapt';
export * from './autoAdapt';
