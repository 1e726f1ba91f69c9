// The gateway service; see README.md.
export {};
