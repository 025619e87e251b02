// Graph SDK helpers for tests.
import assert from 'node:assert/strict';
import { GraphError } from '@microsoft/microsoft-graph-client';

/** The GraphError a Graph SDK call must end with (the test fails when the call succeeds). */
export async function graphError(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GraphError, `a GraphError, not ${String(e)}`);
    return e;
  }
  assert.fail('the call succeeded');
}
