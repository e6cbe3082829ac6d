// One async iterator for every paginated list of the contract (`{items, total, page, limit}`).

export type Page<T> = { items: T[]; total: number; page: number; limit: number };

/** Yields every item, fetching page 1, 2, … until `total` items were seen or a page comes back empty. */
export async function* paginate<T>(fetchPage: (page: number) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
  let seen = 0;
  for (let page = 1; ; page++) {
    const current = await fetchPage(page);
    yield* current.items;
    seen += current.items.length;
    if (current.items.length === 0 || seen >= current.total) return;
  }
}
