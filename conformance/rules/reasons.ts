// Reasons shared by rows that no HTTP client of the target can observe.
export const NOT_BY_EMAIL = 'needs a token PacSpace sends by e-mail, and no documented endpoint lets a client read e-mail';
export const NOT_IN_A_RUN = (what: string) => `only after ${what} of the target's clock; a run cannot wait that long and no documented endpoint moves the clock`;
export const CLIENT_SIDE = (tests: string) => `it binds the client, not the server (${tests} enforce it)`;
