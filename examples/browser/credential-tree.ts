/**
 * Which credentials the live view shows as children of which (R22: a derived credential under its
 * parent). DOM-free: built from `status()` answers (`{ key, parent? }`), so a test needs no page.
 */

/** What the tree needs of a credential: its key and, for a derived credential, its parent's key. */
export interface CredentialLink {
  readonly key: string;
  readonly parent?: string;
}

/** One row of the view, in display order: a parent first, its derived credentials right below it. */
export interface CredentialRow {
  readonly key: string;
  /** 0 for a credential with no (known) parent, 1 for its children, and so on. */
  readonly depth: number;
  /** The parent's key (shown as "derived from <parent>"), for every derived credential. */
  readonly parent?: string;
}

/**
 * Orders `links` as a tree: each root (no parent, or a parent not among `links`) in the given order,
 * each followed depth-first by the credentials derived from it. A cycle (not possible through
 * `derive()`, which refuses loops) cannot hide a credential: what no root reaches is shown at depth 0.
 */
export function credentialTree(links: readonly CredentialLink[]): CredentialRow[] {
  const known = new Set(links.map((l) => l.key));
  const children = new Map<string, CredentialLink[]>();
  for (const link of links) {
    if (link.parent === undefined || !known.has(link.parent)) continue;
    children.set(link.parent, [...(children.get(link.parent) ?? []), link]);
  }
  const rows: CredentialRow[] = [];
  const placed = new Set<string>();
  const place = (link: CredentialLink, depth: number): void => {
    if (placed.has(link.key)) return;
    placed.add(link.key);
    rows.push(link.parent === undefined ? { key: link.key, depth } : { key: link.key, depth, parent: link.parent });
    for (const child of children.get(link.key) ?? []) place(child, depth + 1);
  };
  for (const link of links) if (link.parent === undefined || !known.has(link.parent)) place(link, 0);
  for (const link of links) place(link, 0);
  return rows;
}

/** The keys derived directly from `parent`, in the given order. */
export function childrenOf(links: readonly CredentialLink[], parent: string): string[] {
  return links.filter((link) => link.parent === parent && link.key !== parent).map((link) => link.key);
}
