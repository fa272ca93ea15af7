sparq-signature 1
inputs 1
in%20put%3D1/a:b.c-d_e float16 1 0
outputs 2
%25 int8 1 2
x bfloat16 0
