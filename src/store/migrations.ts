import { fileURLToPath } from "node:url";

/** drizzle/<dialect>/ at the project root, wherever the process was started. */
export function migrationsFolder(dialect: "sqlite" | "postgres"): string {
  return fileURLToPath(new URL(`../../drizzle/${dialect}`, import.meta.url));
}
