module mqstack/integration

go 1.26.8

require (
	github.com/go-zookeeper/zk v1.0.4
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/anishathalye/porcupine v1.3.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
