/** The churn model's customer record: the ML Zoomcamp Telco columns, checked and normalized like the course does. */

import { InvalidInput } from '@servekit/core';

/** The categorical columns and the values the model was trained on (after the course's normalization). */
export const CATEGORICAL: Readonly<Record<string, readonly string[]>> = {
  gender: ['female', 'male'],
  partner: ['no', 'yes'],
  dependents: ['no', 'yes'],
  phoneservice: ['no', 'yes'],
  multiplelines: ['no', 'no_phone_service', 'yes'],
  internetservice: ['dsl', 'fiber_optic', 'no'],
  onlinesecurity: ['no', 'no_internet_service', 'yes'],
  onlinebackup: ['no', 'no_internet_service', 'yes'],
  deviceprotection: ['no', 'no_internet_service', 'yes'],
  techsupport: ['no', 'no_internet_service', 'yes'],
  streamingtv: ['no', 'no_internet_service', 'yes'],
  streamingmovies: ['no', 'no_internet_service', 'yes'],
  contract: ['month-to-month', 'one_year', 'two_year'],
  paperlessbilling: ['no', 'yes'],
  paymentmethod: ['bank_transfer_(automatic)', 'credit_card_(automatic)', 'electronic_check', 'mailed_check'],
};

/** The numeric columns. `seniorcitizen` is 0 or 1 (the model reads it as one numeric column). */
export const NUMERICAL = ['seniorcitizen', 'tenure', 'monthlycharges', 'totalcharges'] as const;

/** One customer as the model takes it: 15 categorical strings and 4 numbers. */
export type Customer = Record<string, string | number>;

/** The course's normalization of column names and string values: lower case, spaces as underscores. */
export function normalizeName(s: string): string {
  return s.trim().toLowerCase().replaceAll(' ', '_');
}

const FIELDS = [...Object.keys(CATEGORICAL), ...NUMERICAL];

function numberField(where: string, key: string, v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new InvalidInput(`${where}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  }
  if (n < 0) throw new InvalidInput(`${where}: "${key}" must not be negative, got ${n}`);
  if (key === 'seniorcitizen' && n !== 0 && n !== 1) {
    throw new InvalidInput(`${where}: "seniorcitizen" must be 0 or 1, got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Check one customer and return it normalized (keys and string values lower-cased with `_` for spaces, numeric
 * strings as numbers). Throws InvalidInput (400) naming the customer and the field that is missing, unknown or wrong.
 */
export function parseCustomer(raw: unknown, index: number): Customer {
  const where = `customer ${index}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidInput(`${where} must be a JSON object of the customer's fields, got ${JSON.stringify(raw)}`);
  }
  const given = new Map<string, unknown>();
  for (const [k, v] of Object.entries(raw)) {
    const key = normalizeName(k);
    if (!FIELDS.includes(key)) {
      throw new InvalidInput(`${where}: unknown field "${k}"; the fields are ${FIELDS.join(', ')}`);
    }
    given.set(key, v);
  }
  const out: Customer = {};
  for (const key of FIELDS) {
    if (!given.has(key)) throw new InvalidInput(`${where}: field "${key}" is missing`);
    const v = given.get(key);
    const allowed = CATEGORICAL[key];
    if (!allowed) {
      out[key] = numberField(where, key, v);
      continue;
    }
    if (typeof v !== 'string') throw new InvalidInput(`${where}: "${key}" must be a string, got ${JSON.stringify(v)}`);
    const s = normalizeName(v);
    if (!allowed.includes(s)) {
      throw new InvalidInput(`${where}: "${key}" must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
    }
    out[key] = s;
  }
  return out;
}

/** The customers of a V1 body `{"instances": [customer, ...]}`; throws InvalidInput (400) for anything else. */
export function parseCustomers(body: { instances?: unknown; inputs?: unknown }): Customer[] {
  const list = body.instances;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidInput('send {"instances": [customer, ...]}: "instances" must be a non-empty array of customers');
  }
  return list.map((c, i) => parseCustomer(c, i));
}
