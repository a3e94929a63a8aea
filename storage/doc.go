// Package storage holds the types shared by Vigia's stores: filters, pages
// and the shapes that read queries return. The stores themselves live in
// subpackages (embedded, the default; clickhouse) and satisfy the narrow
// interfaces that their consumers declare.
package storage
