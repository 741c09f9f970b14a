module mqstack/election

go 1.26.8

require (
	github.com/cockroachdb/datadriven v1.0.3
	github.com/stretchr/testify v1.12.1
	mqstack/proto v0.0.0
)

require (
	github.com/hashicorp/go-msgpack/v2 v2.1.5 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace mqstack/proto => ../proto
