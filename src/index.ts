// The library's public API. Layers are exported whole from their index.ts (see DESIGN.md).
export * from './core/index.ts'
export * from './experiments/index.ts'
export * from './remote/index.ts'
export * from './store/index.ts'
