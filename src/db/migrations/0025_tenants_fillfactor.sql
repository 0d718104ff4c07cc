-- Every event recorded for a tenant bumps its row's event sequence, and a renewal also mirrors its plan price there:
-- a tenant row is updated far more often than it is inserted. Neither column is indexed, so each update can be a
-- heap-only tuple (no entry in any of the table's eleven indexes) when the row's page has room for the new version.
-- At the default fillfactor a page is packed full at insert, so every tenant's first update after it was created
-- (and each one after that until a prune frees room) wrote a new entry in every index.
alter table tenants set (fillfactor = 80);
