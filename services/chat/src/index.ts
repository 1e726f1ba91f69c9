// The chat service; see README.md.
export {};
