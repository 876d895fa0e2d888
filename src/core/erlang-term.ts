/**
 * Just enough of Erlang's External Term Format (what `term_to_binary` writes)
 * to hash documents the way CouchDB does: see spec/revision-ids.md.
 *
 * JSON maps to terms as CouchDB's decoder builds them: an object is
 * `{[{Key, Value}, ...]}` in document order, an array a list (or an Erlang
 * "string" when every element is an integer 0..255), a string a UTF-8 binary,
 * an integer a (big) integer, a float a float, true/false/null atoms.
 */
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.js';
import { recordedKeyOrder } from './json-order.js';

export const enum TermTag {
  Version = 131,
  NewFloat = 70,
  SmallInteger = 97,
  Integer = 98,
  Atom = 100,
  SmallTuple = 104,
  Nil = 106,
  String = 107,
  List = 108,
  Binary = 109,
  SmallBig = 110,
  LargeBig = 111,
}

const int32Min = -0x8000_0000;
const int32Max = 0x7fff_ffff;
const stringLengthMax = 0xffff;

/** An append-only byte buffer that grows as needed; reusable after `reset()`. */
export class TermWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 4096) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  reset(): this {
    this.length = 0;
    return this;
  }

  /** Bytes the writer can hold before it grows. */
  capacity(): number {
    return this.buffer.length;
  }

  /** The bytes written so far (a view, valid until the next write or reset). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.length++] = value;
  }

  /** Big-endian, by hand: Buffer#writeUInt32BE's checks cost more than the four stores. */
  private u32At(offset: number, value: number): void {
    const b = this.buffer;
    b[offset] = value >>> 24;
    b[offset + 1] = (value >>> 16) & 0xff;
    b[offset + 2] = (value >>> 8) & 0xff;
    b[offset + 3] = value & 0xff;
  }

  atom(name: string): void {
    this.ensure(3 + name.length);
    const b = this.buffer;
    b[this.length] = TermTag.Atom;
    b[this.length + 1] = name.length >> 8;
    b[this.length + 2] = name.length & 0xff;
    this.length += 3;
    for (let i = 0; i < name.length; i++) b[this.length++] = name.charCodeAt(i);
  }

  tupleHeader(arity: number): void {
    this.ensure(2);
    this.buffer[this.length++] = TermTag.SmallTuple;
    this.buffer[this.length++] = arity;
  }

  listHeader(count: number): void {
    this.ensure(5);
    this.buffer[this.length] = TermTag.List;
    this.u32At(this.length + 1, count);
    this.length += 5;
  }

  nil(): void {
    this.byte(TermTag.Nil);
  }

  /**
   * A 16-byte binary from 32 hex digits (any case); false, writing nothing,
   * when `hex` is not exactly that.
   */
  binaryHex16(hex: string): boolean {
    if (hex.length !== 32) return false;
    this.ensure(5 + 16);
    const b = this.buffer;
    const at = this.length + 5;
    for (let i = 0; i < 16; i++) {
      const high = hexDigitValue(hex.charCodeAt(2 * i));
      const low = hexDigitValue(hex.charCodeAt(2 * i + 1));
      if (high < 0 || low < 0) return false;
      b[at + i] = (high << 4) | low;
    }
    b[this.length] = TermTag.Binary;
    this.u32At(this.length + 1, 16);
    this.length = at + 16;
    return true;
  }

  binaryBytes(bytes: Uint8Array): void {
    this.ensure(5 + bytes.length);
    this.buffer[this.length] = TermTag.Binary;
    this.u32At(this.length + 1, bytes.length);
    this.buffer.set(bytes, this.length + 5);
    this.length += 5 + bytes.length;
  }

  /** A binary holding the UTF-8 bytes of `text`. */
  binaryString(text: string): void {
    const count = text.length;
    this.ensure(5 + count * 3);
    const b = this.buffer;
    const lengthAt = this.length + 1;
    b[this.length] = TermTag.Binary;
    let at = this.length + 5;
    if (count > 64) {
      at += b.write(text, at, 'utf8'); // native encoding pays off for longer strings
    } else {
      // ASCII (most keys and short values) in a tight loop; the rest from the first other character.
      let i = 0;
      for (; i < count; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        b[at++] = c;
      }
      for (; i < count; i++) {
        let c = text.charCodeAt(i);
        if (c < 0x80) {
          b[at++] = c;
        } else if (c < 0x800) {
          b[at++] = 0xc0 | (c >> 6);
          b[at++] = 0x80 | (c & 0x3f);
        } else {
          if (c >= 0xd800 && c <= 0xdbff && i + 1 < count) {
            const low = text.charCodeAt(i + 1);
            if (low >= 0xdc00 && low <= 0xdfff) {
              c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
              i++;
              b[at++] = 0xf0 | (c >> 18);
              b[at++] = 0x80 | ((c >> 12) & 0x3f);
              b[at++] = 0x80 | ((c >> 6) & 0x3f);
              b[at++] = 0x80 | (c & 0x3f);
              continue;
            }
          }
          if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as Buffer#write does
          b[at++] = 0xe0 | (c >> 12);
          b[at++] = 0x80 | ((c >> 6) & 0x3f);
          b[at++] = 0x80 | (c & 0x3f);
        }
      }
    }
    this.u32At(lengthAt, at - lengthAt - 4);
    this.length = at;
  }

  /** An integer of any size: small integer, 32-bit integer or big integer. */
  integer(value: number | bigint): void {
    if (typeof value === 'number') {
      if (value >= 0 && value <= 255) {
        this.ensure(2);
        this.buffer[this.length++] = TermTag.SmallInteger;
        this.buffer[this.length++] = value;
        return;
      }
      if (value >= int32Min && value <= int32Max) {
        this.ensure(5);
        this.buffer[this.length] = TermTag.Integer;
        this.buffer.writeInt32BE(value, this.length + 1);
        this.length += 5;
        return;
      }
      if (!Number.isSafeInteger(value)) {
        this.integer(BigInt(value));
        return;
      }
      // Magnitude bytes, least significant first.
      let magnitude = Math.abs(value);
      this.ensure(3 + 8);
      const b = this.buffer;
      const countAt = this.length + 1;
      b[this.length] = TermTag.SmallBig;
      b[this.length + 2] = value < 0 ? 1 : 0;
      let at = this.length + 3;
      while (magnitude > 0) {
        b[at++] = magnitude % 256;
        magnitude = Math.floor(magnitude / 256);
      }
      b[countAt] = at - countAt - 2;
      this.length = at;
      return;
    }
    if (value >= BigInt(int32Min) && value <= BigInt(int32Max)) {
      this.integer(Number(value));
      return;
    }
    const negative = value < 0n;
    const hex = (negative ? -value : value).toString(16);
    const count = (hex.length + 1) >> 1;
    this.ensure(6 + count);
    const b = this.buffer;
    if (count <= 255) {
      b[this.length++] = TermTag.SmallBig;
      b[this.length++] = count;
    } else {
      b[this.length] = TermTag.LargeBig;
      this.u32At(this.length + 1, count);
      this.length += 5;
    }
    b[this.length++] = negative ? 1 : 0;
    for (let k = 0; k < count; k++) {
      const end = hex.length - 2 * k;
      b[this.length++] = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
  }

  /** A float: NEW_FLOAT_EXT, IEEE-754 double big-endian. */
  float(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Erlang has no float ${value}`);
    this.ensure(9);
    this.buffer[this.length] = TermTag.NewFloat;
    this.buffer.writeDoubleBE(value, this.length + 1);
    this.length += 9;
  }

  /** Reserves a list header whose count is filled in by `endList`. */
  beginList(): number {
    const at = this.length;
    this.listHeader(0);
    return at;
  }

  /** Completes a list begun at `at` with `count` elements (an empty one becomes nil). */
  endList(at: number, count: number): void {
    if (count === 0) {
      this.length = at;
      this.nil();
      return;
    }
    this.u32At(at + 1, count);
    this.nil();
  }

  /** A JSON value as CouchDB's decoder represents it. */
  json(value: JsonValue): void {
    switch (typeof value) {
      case 'string':
        this.binaryString(value);
        return;
      case 'number':
        if (Number.isInteger(value)) this.integer(value);
        else this.float(value);
        return;
      case 'bigint':
        this.integer(value);
        return;
      case 'boolean':
        this.atom(value ? 'true' : 'false');
        return;
      case 'object':
        if (value === null) this.atom('null');
        else if (value instanceof JsonFloat) this.float(value.value);
        else if (Array.isArray(value)) this.jsonArray(value);
        else this.jsonObject(value);
        return;
      default:
        throw new TypeError(`not a JSON value: ${typeof value}`);
    }
  }

  /** `{[{Key, Value}, ...]}`; members whose value is undefined are skipped. */
  jsonObject(object: JsonObject): void {
    this.tupleHeader(1);
    const listAt = this.beginList();
    let count = 0;
    const order = recordedKeyOrder(object);
    if (order === undefined) {
      for (const key in object) count += this.member(key, object[key]);
    } else {
      for (const key of order) {
        if (Object.prototype.hasOwnProperty.call(object, key)) count += this.member(key, object[key]);
      }
      if (count !== Object.keys(object).length) {
        // Keys added after the order was recorded follow it (see json-order.ts).
        for (const key of Object.keys(object)) if (!order.includes(key)) count += this.member(key, object[key]);
      }
    }
    this.endList(listAt, count);
  }

  private member(key: string, value: JsonValue | undefined): number {
    if (value === undefined) return 0;
    this.tupleHeader(2);
    this.binaryString(key);
    this.json(value);
    return 1;
  }

  private jsonArray(array: readonly JsonValue[]): void {
    const count = array.length;
    if (count === 0) {
      this.nil();
      return;
    }
    if (count <= stringLengthMax && isByteList(array)) {
      this.ensure(3 + count);
      const b = this.buffer;
      b[this.length] = TermTag.String;
      b[this.length + 1] = count >> 8;
      b[this.length + 2] = count & 0xff;
      this.length += 3;
      for (let i = 0; i < count; i++) b[this.length++] = Number(array[i]);
      return;
    }
    this.listHeader(count);
    for (let i = 0; i < count; i++) {
      const element = array[i];
      if (element === undefined) this.atom('null');
      else this.json(element);
    }
    this.nil();
  }
}

/** 0-15 for a hex digit's char code (either case), else -1. */
function hexDigitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** True when every element is an integer 0..255 (Erlang prints such lists as strings). */
function isByteList(array: readonly JsonValue[]): boolean {
  for (let i = 0; i < array.length; i++) {
    const element = array[i];
    if (typeof element === 'number') {
      if (!(element >= 0 && element <= 255 && Number.isInteger(element))) return false;
    } else if (typeof element === 'bigint') {
      if (element < 0n || element > 255n) return false;
    } else {
      return false;
    }
  }
  return true;
}
