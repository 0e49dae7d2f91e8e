export * from './presets';
export * from './transfer';
export * from './evaluate';
export * from './embed';
export * from './adapt';
export * from './autoAdapt';
export * from './race/autoTransfer';
export * from './race/probe';
