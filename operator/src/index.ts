// The FreeChat API (schema, types, CRD), the pure plans, and the operator itself.
export * from './api/freechat.js';
export { freeChatCrd } from './api/crd.js';
export { planFreeChat, objectKey, type Plan } from './plan/plan.js';
export { computeStatus, CONDITION_TYPES } from './plan/status.js';
export { loadOperatorConfig, type OperatorConfig } from './config.js';
export { startOperator, type RunningOperator, type StartOperatorOptions } from './operator.js';
export { connect, type Kube } from './controller/kube.js';
