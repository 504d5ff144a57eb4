import { describe, expect, it } from 'vitest';
import { deserializeParams, serializeParams } from './params.js';

describe('Kata SerializeParams / DeserializeParams', () => {
  const params = [
    { key: 'a', value: 'b' },
    { key: '', value: '' },
    { key: 'flag', value: '' },
    { key: '', value: 'bare' },
    { key: '-m', value: '512' },
  ];
  it('delim "=" joins pairs and keeps single tokens', () => {
    expect(serializeParams(params, '=')).toEqual(['a=b', 'flag', 'bare', '-m=512']);
  });
  it('delim "" makes two tokens per full pair', () => {
    expect(serializeParams(params, '')).toEqual(['a', 'b', 'flag', 'bare', '-m', '512']);
  });
  it('deserialize skips empties and splits on the first "="', () => {
    expect(deserializeParams(['', 'a=b', 'c', 'd=e=f', '=v'])).toEqual([
      { key: 'a', value: 'b' },
      { key: 'c', value: '' },
      { key: 'd', value: 'e=f' },
      { key: '', value: 'v' },
    ]);
  });
  it('round-trips', () => {
    const p = deserializeParams(['x=1', 'y']);
    expect(deserializeParams(serializeParams(p, '='))).toEqual(p);
  });
});
