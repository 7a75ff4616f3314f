export * from './core/index.ts'
export * from './store/index.ts'
