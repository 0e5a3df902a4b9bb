export interface KvTable {
  key: string;
  value: string;
  expires_at: number | null;
}

export interface StoreTables {
  kv: KvTable;
}
