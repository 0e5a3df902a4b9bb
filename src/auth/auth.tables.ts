import type { Generated, Insertable, Selectable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  name: string;
  email: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export interface PersonalAccessTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  /** JSON array of ability names. */
  abilities: string;
  last_used_at: number | null;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type TokenRow = Selectable<PersonalAccessTokensTable>;
export type NewTokenRow = Insertable<PersonalAccessTokensTable>;

export interface AuthTables {
  users: UsersTable;
  personal_access_tokens: PersonalAccessTokensTable;
}
