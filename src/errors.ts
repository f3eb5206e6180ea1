// Errors that carry their HTTP answer. Services throw them; the error plugin
// (http/errors.ts) turns them into `{"detail": ...}` responses.

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

export const unauthorized = (detail: string) =>
  new ApiError(401, detail, { headers: { "WWW-Authenticate": "Bearer" } });
export const forbidden = (detail: string) => new ApiError(403, detail);
export const notFound = (detail: string) => new ApiError(404, detail);
export const conflict = (detail: string) => new ApiError(409, detail);
export const badRequest = (detail: string, errors?: FieldError[]) => new ApiError(400, detail, errors ? { errors } : {});
