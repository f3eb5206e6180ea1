// Bearer authentication as an Elysia macro: routes that say `auth: true` get
// `userId` in their context, or the request ends with 401 before any body is read.
import { Elysia } from "elysia";
import type { AccountsService } from "../accounts/service";

export function bearerAuth(accounts: AccountsService) {
  return new Elysia({ name: "http.auth" }).macro({
    auth: {
      async resolve({ request }) {
        return { userId: await accounts.authenticate(request.headers.get("authorization")) };
      },
    },
  });
}

export type BearerAuth = ReturnType<typeof bearerAuth>;

/** OpenAPI security requirement for routes behind `auth: true`. */
export const bearerSecurity = [{ bearerAuth: [] }];
