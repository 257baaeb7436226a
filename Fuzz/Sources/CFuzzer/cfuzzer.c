// The declaration in include/cfuzzer.h is all: libFuzzer defines it.
