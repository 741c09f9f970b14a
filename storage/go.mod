module mqstack/storage

go 1.26.8

require mqstack/proto v0.0.0

replace mqstack/proto => ../proto
