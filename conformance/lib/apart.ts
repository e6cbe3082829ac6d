// Checks that judge an order by creation time ("newest first") need what they create stamped at
// distinct instants: with equal timestamps any order is newest first, and a list in the wrong
// order could not be told from a right one. Servers stamp to the millisecond (the contract's
// date-times); a few milliseconds between two creations make their stamps differ.

/** Resolves a few milliseconds later (an interrupted run is stopped by the next request, not here). */
export const apart = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
