// The FreeChat API: schema, types and CRD. The controller comes next (see the open issue).
export * from './api/freechat.js';
export { freeChatCrd } from './api/crd.js';
