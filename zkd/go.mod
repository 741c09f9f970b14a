module mqstack/zkd

go 1.26.8

require (
	mqstack/proto v0.0.0
	mqstack/storage v0.0.0
)

replace (
	mqstack/proto => ../proto
	mqstack/storage => ../storage
)
