module mqstack/proto

go 1.26.8

require (
	github.com/hashicorp/go-msgpack/v2 v2.1.5
	github.com/klauspost/compress v1.20.3
	github.com/pierrec/lz4/v4 v4.1.33
	github.com/stretchr/testify v1.12.1
	github.com/twmb/franz-go/pkg/kmsg v1.15.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
