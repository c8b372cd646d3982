// Registers every backend the test suite runs against. The js backend is always there; others are added
// here as they are built, so the whole op suite runs on each.

export function registerTestBackends(): void {}
