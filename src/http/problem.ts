// RFC 9457 problem details: the one shape of every error answer.
import { STATUS_CODES } from "node:http";
import type { ErrorCode, FieldError } from "../errors";

export const PROBLEM_JSON = "application/problem+json";

export interface Problem {
  /** A URI naming the kind of problem: `urn:modsync:problem:<code>`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}

/** `type` is a URN, not a URL: it names the problem and promises no page to fetch. */
export const problemType = (code: ErrorCode) => `urn:modsync:problem:${code}`;

export function problem(status: number, code: ErrorCode, detail: string, errors?: FieldError[]): Problem {
  const title = status === 499 ? "Client Closed Request" : STATUS_CODES[status] ?? "Error";
  return { type: problemType(code), title, status, detail, code, ...(errors && { errors }) };
}
