import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvText, usageReportCsv, wantsCsv } from './usage-csv';

describe('usage report CSV', () => {
  it('writes a header row, then a row per group, with plain decimals and CRLF line ends', () => {
    const row = (key: string | null, cost: number) => ({
      key,
      requests: 2,
      prompt_tokens: 30,
      completion_tokens: 4,
      total_tokens: 34,
      cost,
    });
    const csv = usageReportCsv({
      data: [row('openai/gpt-4o-mini', 1e-7), row(null, 0.5)],
      totals: row(null, 0),
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-02-01T00:00:00.000Z',
      group_by: 'model',
    });
    assert.equal(
      csv,
      'model,requests,prompt_tokens,completion_tokens,total_tokens,cost\r\n' +
        'openai/gpt-4o-mini,2,30,4,34,0.0000001\r\n' +
        ',2,30,4,34,0.5\r\n',
    );
  });

  it('quotes commas, quotes and line breaks, and defuses what a spreadsheet would run as a formula', () => {
    assert.equal(csvText('a,b'), '"a,b"');
    assert.equal(csvText('say "hi"'), '"say ""hi"""');
    assert.equal(csvText('two\nlines'), '"two\nlines"');
    assert.equal(csvText('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvText('+1'), "'+1");
    assert.equal(csvText('@sum'), "'@sum");
    assert.equal(csvText('plain/model'), 'plain/model');
  });

  it('answers CSV when format says so, else when Accept ranks text/csv at least as high as JSON', () => {
    assert.equal(wantsCsv('csv', 'application/json'), true);
    assert.equal(wantsCsv('json', 'text/csv'), false);
    assert.equal(wantsCsv(undefined, undefined), false);
    assert.equal(wantsCsv(undefined, '*/*'), false);
    assert.equal(wantsCsv(undefined, 'text/csv'), true);
    assert.equal(wantsCsv(undefined, 'application/json, text/csv;q=0.9'), false);
    assert.equal(wantsCsv(undefined, 'text/csv, application/json;q=0.5'), true);
    assert.equal(wantsCsv(undefined, 'text/csv;q=0'), false);
  });
});
