import { Type, type Static } from 'typebox';
import { IdFilter, pageProperties } from './catalog.params.js';
import { IdInput } from './catalog.schemas.js';

const fields = {
  pornstar_id: IdInput('The pornstar the alias belongs to'),
  alias: Type.String({ maxLength: 255, description: 'Trimmed; unique per pornstar, case-insensitively' }),
};

export const AliasBody = Type.Object(fields);
export const AliasPatchBody = Type.Object({ pornstar_id: Type.Optional(fields.pornstar_id), alias: Type.Optional(fields.alias) });
export type AliasBodyData = Static<typeof AliasPatchBody>;

export const AliasesQuery = Type.Object({ ...pageProperties, pornstar_id: Type.Optional(IdFilter('Only the aliases of this pornstar')) });
export type AliasesQueryData = Static<typeof AliasesQuery>;
