// The auth service; see README.md.
export {};
