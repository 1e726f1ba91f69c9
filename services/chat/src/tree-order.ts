// Pure: a conversation's messages in an order where every parent comes before its children, and
// otherwise oldest first. Times alone do not promise it (imported messages may share a parent's time).
export function parentsFirst<M extends { readonly id: string; readonly parentId: string | null }>(messages: readonly M[]): M[] {
  const children = new Map<string | null, M[]>();
  const ids = new Set(messages.map((m) => m.id));
  for (const message of messages) {
    // A parent outside the list (never in a consistent tree) is treated as a root, not lost.
    const parent = message.parentId !== null && ids.has(message.parentId) ? message.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), message]);
  }
  const ordered: M[] = [];
  // Depth-first from the roots, each level in the given (oldest first) order; iterative, no recursion limit.
  const stack = [...(children.get(null) ?? [])].reverse();
  while (stack.length > 0) {
    const message = stack.pop()!;
    ordered.push(message);
    stack.push(...[...(children.get(message.id) ?? [])].reverse());
  }
  return ordered;
}
