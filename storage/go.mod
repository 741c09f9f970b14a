module mqstack/storage

go 1.26.8

require (
	github.com/go-zookeeper/zk v1.0.4
	github.com/rs/zerolog v1.35.1
	github.com/stretchr/testify v1.12.1
	mqstack/proto v0.0.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.29.0 // indirect
)

replace mqstack/proto => ../proto
