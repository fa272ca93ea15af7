sparq-signature 1
inputs 13
t0 float32 0
t1 float64 1 -1
t2 float16 2 -1 6
t3 bfloat16 3 -1 6 13
t4 int8 0
t5 int16 1 -1
t6 int32 2 -1 6
t7 int64 3 -1 6 13
t8 uint8 0
t9 uint16 1 -1
t10 uint32 2 -1 6
t11 uint64 3 -1 6 13
t12 bool 0
outputs 0