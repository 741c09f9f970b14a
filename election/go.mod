module mqstack/election

go 1.26.8

require mqstack/proto v0.0.0

require (
	github.com/cockroachdb/datadriven v1.0.3 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)

replace mqstack/proto => ../proto
