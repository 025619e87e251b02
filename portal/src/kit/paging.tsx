// Paging a Graph list the way Graph pages it: the first page's URL, then each @odata.nextLink; the pages
// seen are remembered so Previous goes back without the server keeping any state.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button, Text, makeStyles, tokens } from '@fluentui/react-components';
import { call, sameOriginPath } from '../api';

export interface GraphList<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

const useStyles = makeStyles({
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, marginTop: tokens.spacingVerticalM },
});

/** The current page of a list that starts at `first` (a new `first` starts again at its page 1). */
export function usePages<T>(key: string, first: string) {
  const [state, setState] = useState<{ first: string; pages: string[] }>({ first, pages: [first] });
  const pages = state.first === first ? state.pages : [first];
  const current = pages[pages.length - 1]!;
  const query = useQuery({ queryKey: [key, current], queryFn: () => call<GraphList<T>>(current) });
  const next = query.data?.['@odata.nextLink'];
  return {
    query,
    pageNumber: pages.length,
    prev: pages.length > 1 ? () => setState({ first, pages: pages.slice(0, -1) }) : undefined,
    next: next ? () => setState({ first, pages: [...pages, sameOriginPath(next)] }) : undefined,
  };
}

export function Pager({ pageNumber, prev, next, idPrefix = '' }: { pageNumber: number; prev?: () => void; next?: () => void; idPrefix?: string }) {
  const s = useStyles();
  return (
    <div className={s.pager}>
      <Button id={`${idPrefix}prevPage`} disabled={!prev} onClick={prev}>
        Previous
      </Button>
      <Text id={`${idPrefix}pageNumber`}>Page {pageNumber}</Text>
      <Button id={`${idPrefix}nextPage`} disabled={!next} onClick={next}>
        Next
      </Button>
    </div>
  );
}
