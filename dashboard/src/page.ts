/** What every page is: a name (for `data-page`), whether it refreshes itself, and how it draws. */
export interface Page {
  readonly name: string;
  /** Redrawn every few seconds while shown. */
  readonly live: boolean;
  draw(
    into: HTMLElement,
    route: { readonly params: Readonly<Record<string, string>>; readonly query: URLSearchParams },
  ): Promise<void>;
}
