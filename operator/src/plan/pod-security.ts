// The restricted Pod Security Standard for every pod the operator creates.
import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';

/** `uid`: the user the image is built for (node: 1000, postgres/redis: 999, consul: 100, rocketmq: 3000). */
export function podSecurity(uid: number): V1PodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } };
}

/** Read-only root filesystems where the program allows it (ours do; the databases write next to their data). */
export function containerSecurity(readOnlyRootFilesystem: boolean): V1SecurityContext {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem, capabilities: { drop: ['ALL'] } };
}
