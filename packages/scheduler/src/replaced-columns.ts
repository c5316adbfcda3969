/**
 * The columns an upsert (`INSERT … ON CONFLICT DO UPDATE`) replaces, taken from the row it
 * inserts: the dispatcher's profiles and the scheduler's schedules both keep some columns
 * (stats, run times, created_at) and replace the rest.
 */
export function replacedColumns<Row extends object, K extends keyof Row>(
  row: Row,
  columns: readonly K[],
): Pick<Row, K> {
  return Object.fromEntries(columns.map((column) => [column, row[column]])) as Pick<Row, K>;
}
