// SwiftAdam from Go with cgo: several tensors, a learning-rate schedule, a checkpoint saved,
// freed, loaded and resumed, and every step checked bit for bit against the README formula
// computed here in Go.
//
// cgo forbids handing C an array of Go pointers (Go memory that holds Go pointers), so the
// tensors live end to end in one Go slice for the params and one for the grads, and
// swiftadam_step_contiguous takes the two slices: no C memory, no pointer arrays.
//
//	After `make install`:
//	  CGO_CFLAGS="$(pkg-config --cflags swiftadam)" \
//	  CGO_LDFLAGS="$(pkg-config --libs swiftadam) -Wl,-rpath,$(pkg-config --variable=libdir swiftadam)" \
//	  go build -o adam_go examples/go/main.go
//	./adam_go [checkpoint-path]
package main

/*
#cgo LDFLAGS: -lSwiftAdam -lm
#include <math.h>
#include <stdlib.h>
#include "swiftadam.h"
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"unsafe"
)

var lengths = []int{7, 100, 2000}

const (
	steps  = 30
	saveAt = 15
	beta1  = 0.9
	beta2  = 0.999
	eps    = 1e-8
)

// Warm-up over 5 steps to 0.05, then 1/sqrt decay.
func lrAt(step int) float64 {
	if step < 5 {
		return 0.05 * float64(step+1) / 5
	}
	return 0.05 * math.Sqrt(5/float64(step+1))
}

func check(what string, rc C.int32_t) {
	if rc != C.SWIFTADAM_OK {
		fmt.Fprintf(os.Stderr, "%s: %s (%d): %s\n", what, C.GoString(C.swiftadam_status_name(rc)), rc,
			C.GoString(C.swiftadam_last_error()))
		os.Exit(1)
	}
}

// pow is libm's, as in the library. Go's math.Pow is its own code: for b = 0.9 it differs
// from libm in the last bit of the double from t = 4 on (rounding to float32 mostly hides it).
func pow(b float64, t int) float64 { return float64(C.pow(C.double(b), C.double(t))) }

// referenceStep is the README formula (Adam, no weight decay) at step t: scalars in float64,
// each rounded once to float32; the element operations in float32, in this order. The
// explicit float32(...) conversions keep Go from fusing a multiply and an add.
func referenceStep(p, m, v, g []float32, t int, lr float64) {
	w1 := float32(1 - beta1)
	b2 := float32(beta2)
	oneMinusB2 := float32(1 - beta2)
	bc2Sqrt := float32(math.Sqrt(1 - pow(beta2, t)))
	negStep := float32(-(lr / (1 - pow(beta1, t))))
	e := float32(eps)
	for i := range p {
		if w1 < 0.5 {
			m[i] = m[i] + float32(w1*(g[i]-m[i]))
		} else {
			m[i] = g[i] - float32((g[i]-m[i])*(1-w1))
		}
		v[i] = float32(v[i]*b2) + float32(float32(oneMinusB2*g[i])*g[i])
		p[i] = p[i] + float32(negStep*m[i])/(float32(math.Sqrt(float64(v[i])))/bc2Sqrt+e)
	}
}

func main() {
	path := filepath.Join(os.TempDir(), "swiftadam_go_example.ckpt")
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	fmt.Printf("libSwiftAdam %s (%s backend)\n", C.GoString(C.swiftadam_version_string()),
		C.GoString(C.swiftadam_backend_name()))

	nt, total := len(lengths), 0
	for _, n := range lengths {
		total += n
	}
	cLengths := make([]C.size_t, nt)
	// flatParams and flatGrads hold the tensors end to end; params[k] and grads[k] view tensor k.
	flatParams, flatGrads := make([]float32, total), make([]float32, total)
	params, grads := make([][]float32, nt), make([][]float32, nt)
	refP, refM, refV := make([][]float32, nt), make([][]float32, nt), make([][]float32, nt)
	start := 0
	for k, n := range lengths {
		cLengths[k] = C.size_t(n)
		params[k], grads[k] = flatParams[start:start+n], flatGrads[start:start+n]
		start += n
		refP[k], refM[k], refV[k] = make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range params[k] {
			params[k][i] = float32(math.Cos(float64(5*i + k)))
			refP[k][i] = params[k][i]
		}
	}

	var cfg C.swiftadam_config
	check("config_init", C.swiftadam_config_init(&cfg, C.sizeof_swiftadam_config))
	cfg.beta1, cfg.beta2, cfg.eps = beta1, beta2, eps
	var state *C.swiftadam_state
	check("create", C.swiftadam_create(&cLengths[0], C.size_t(nt), &cfg, &state))

	for step := 0; step < steps; step++ {
		if step == saveAt {
			check("save", C.swiftadam_save(state, cpath))
			check("free", C.swiftadam_free(state))
			state = nil
			check("load", C.swiftadam_load(cpath, &cLengths[0], C.size_t(nt), &state))
			var t C.uint64_t
			check("tensor_step", C.swiftadam_tensor_step(state, 0, &t))
			if int(t) != saveAt {
				fmt.Fprintf(os.Stderr, "loaded step count %d, want %d\n", t, saveAt)
				os.Exit(1)
			}
			fmt.Printf("saved after step %d to %s, freed, loaded (step count %d)\n", saveAt, path, t)
		}
		lr := lrAt(step)
		check("set_lr", C.swiftadam_set_lr(state, C.double(lr)))
		for k := range params { // gradient of sum (p - 0.5)^2 / 2
			for i, p := range params[k] {
				grads[k][i] = p - 0.5
			}
		}
		check("step", C.swiftadam_step_contiguous(state, (*C.float)(&flatParams[0]), (*C.float)(&flatGrads[0]), 0))
		for k := range params {
			referenceStep(refP[k], refM[k], refV[k], grads[k], step+1, lr)
			for i := range params[k] {
				if math.Float32bits(params[k][i]) != math.Float32bits(refP[k][i]) {
					fmt.Fprintf(os.Stderr, "step %d, tensor %d, element %d: library %g, README formula %g\n",
						step+1, k, i, params[k][i], refP[k][i])
					os.Exit(1)
				}
			}
		}
	}
	check("free", C.swiftadam_free(state))
	os.Remove(path)
	fmt.Printf("%d steps on %d tensors, warm-up + decay lr, resumed from a checkpoint: "+
		"bit-identical to the README formula at every step\n", steps, nt)
}
