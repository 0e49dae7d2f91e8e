;; Loops of the kernel pack (and of the input check) that run straight on tfjs-backend-wasm's heap:
;; this module imports the backend's own memory, so its arguments are the byte addresses of tensors
;; the backend already holds, and nothing is copied. 128-bit SIMD: four float32 lanes per
;; instruction.
;;
;; Each function computes exactly what its TypeScript twin in heap.ts computes, in the same order
;; of additions, so the two agree to the bit.
;;
;; Built into src/backends/tfjs/kernels/heapWasm.ts by `npm run build:wasm` (wabt); a test checks
;; the committed bytes are those of this file.
(module
  (import "env" "memory" (memory 1))

  ;; out[c] = Σ_r x[r·cols + c] for c < cols, rows added in order: x (rows × cols float32) at $x,
  ;; out (cols float32) at $out. Four columns at a time, then the rest one by one.
  (func (export "sumLeading") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $row i32) (local $wide i32) (local $at i32)
    (local.set $wide (i32.and (local.get $cols) (i32.const -4)))
    ;; Zero the output.
    (local.set $c (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $zero)))
    (local.set $row (local.get $x))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $wideDone
          (loop $wideLoop
            (br_if $wideDone (i32.ge_u (local.get $c) (local.get $wide)))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
            (v128.store (local.get $at)
              (f32x4.add (v128.load (local.get $at))
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2))))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $wideLoop)))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at))
                (f32.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tailLoop)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; out[c] = Σ_r x[r·cols + c] and out[cols + c] = Σ_r x[r·cols + c]² for c < cols, rows added in
  ;; order, each square rounded to float32 and then added: a channel's sum and sum of squares (x
  ;; rows × cols float32 at $x, out 2·cols float32 at $out). Four columns at a time, then the rest.
  (func (export "channelMoments") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $row i32) (local $wide i32) (local $at i32) (local $sq i32) (local $v v128) (local $f f32)
    (local.set $wide (i32.and (local.get $cols) (i32.const -4)))
    (local.set $c (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $c) (i32.shl (local.get $cols) (i32.const 1))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $zero)))
    (local.set $row (local.get $x))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $wideDone
          (loop $wideLoop
            (br_if $wideDone (i32.ge_u (local.get $c) (local.get $wide)))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $sq (i32.add (local.get $at) (i32.shl (local.get $cols) (i32.const 2))))
            (local.set $v (v128.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $v)))
            (v128.store (local.get $sq) (f32x4.add (v128.load (local.get $sq)) (f32x4.mul (local.get $v) (local.get $v))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $wideLoop)))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $sq (i32.add (local.get $at) (i32.shl (local.get $cols) (i32.const 2))))
            (local.set $f (f32.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (local.get $f)))
            (f32.store (local.get $sq) (f32.add (f32.load (local.get $sq)) (f32.mul (local.get $f) (local.get $f))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tailLoop)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; out[r·cols + c] = x[r·cols + c]·scale[c] + shift[c] for r < rows and c < cols, the product
  ;; rounded to float32 and then added: a per-channel affine map (BatchNorm with its statistics
  ;; folded into scale and shift). Four columns at a time, then the rest one by one.
  (func (export "channelAffine") (param $x i32) (param $scale i32) (param $shift i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $wide i32) (local $k i32) (local $row i32) (local $dst i32)
    (local.set $wide (i32.and (local.get $cols) (i32.const -4)))
    (local.set $row (local.get $x))
    (local.set $dst (local.get $out))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $wideDone
          (loop $wideLoop
            (br_if $wideDone (i32.ge_u (local.get $c) (local.get $wide)))
            (local.set $k (i32.shl (local.get $c) (i32.const 2)))
            (v128.store (i32.add (local.get $dst) (local.get $k))
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $k))) (v128.load (i32.add (local.get $scale) (local.get $k))))
                (v128.load (i32.add (local.get $shift) (local.get $k)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $wideLoop)))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $k (i32.shl (local.get $c) (i32.const 2)))
            (f32.store (i32.add (local.get $dst) (local.get $k))
              (f32.add
                (f32.mul (f32.load (i32.add (local.get $row) (local.get $k))) (f32.load (i32.add (local.get $scale) (local.get $k))))
                (f32.load (i32.add (local.get $shift) (local.get $k)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tailLoop)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; out[i] = dy[i] where lo ≤ x[i] ≤ hi, else 0, for i < n (a NaN in x compares false).
  (func (export "clipGradient") (param $dy i32) (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $i i32) (local $wide i32) (local $lo4 v128) (local $hi4 v128) (local $k i32) (local $v f32)
    (local.set $wide (i32.and (local.get $n) (i32.const -4)))
    (local.set $lo4 (f32x4.splat (local.get $lo)))
    (local.set $hi4 (f32x4.splat (local.get $hi)))
    (block $wideDone
      (loop $wideLoop
        (br_if $wideDone (i32.ge_u (local.get $i) (local.get $wide)))
        (local.set $k (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $out) (local.get $k))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $k)))
            (v128.and
              (f32x4.ge (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $lo4))
              (f32x4.le (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $hi4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $wideLoop)))
    (block $tailDone
      (loop $tailLoop
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $k (i32.shl (local.get $i) (i32.const 2)))
        (local.set $v (f32.load (i32.add (local.get $x) (local.get $k))))
        (f32.store (i32.add (local.get $out) (local.get $k))
          (select
            (f32.load (i32.add (local.get $dy) (local.get $k)))
            (f32.const 0)
            (i32.and (f32.ge (local.get $v) (local.get $lo)) (f32.le (local.get $v) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tailLoop))))

  ;; out[t·outStride + k] += a[t·aStride + k] · b[t·bStride + k] for t < count, k < n: each product
  ;; rounded to float32, then added, t in order (a stride of 0 keeps adding into one row). Strides
  ;; are in bytes. Four elements at a time, then the rest one by one.
  (func (export "mulAddRun")
    (param $out i32) (param $outStride i32) (param $a i32) (param $aStride i32)
    (param $b i32) (param $bStride i32) (param $count i32) (param $n i32)
    (local $t i32) (local $i i32) (local $k i32) (local $wide i32) (local $at i32)
    (local.set $wide (i32.and (local.get $n) (i32.const -4)))
    (block $runDone
      (loop $runLoop
        (br_if $runDone (i32.ge_u (local.get $t) (local.get $count)))
        (local.set $i (i32.const 0))
        (block $wideDone
          (loop $wideLoop
            (br_if $wideDone (i32.ge_u (local.get $i) (local.get $wide)))
            (local.set $k (i32.shl (local.get $i) (i32.const 2)))
            (local.set $at (i32.add (local.get $out) (local.get $k)))
            (v128.store (local.get $at)
              (f32x4.add (v128.load (local.get $at))
                (f32x4.mul
                  (v128.load (i32.add (local.get $a) (local.get $k)))
                  (v128.load (i32.add (local.get $b) (local.get $k))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $wideLoop)))
        (block $tailDone
          (loop $tailLoop
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $k (i32.shl (local.get $i) (i32.const 2)))
            (local.set $at (i32.add (local.get $out) (local.get $k)))
            (f32.store (local.get $at)
              (f32.add (f32.load (local.get $at))
                (f32.mul
                  (f32.load (i32.add (local.get $a) (local.get $k)))
                  (f32.load (i32.add (local.get $b) (local.get $k))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tailLoop)))
        (local.set $out (i32.add (local.get $out) (local.get $outStride)))
        (local.set $a (i32.add (local.get $a) (local.get $aStride)))
        (local.set $b (i32.add (local.get $b) (local.get $bStride)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $runLoop))))

  ;; 1 if every x[i], i < n, is finite, else 0: x − x is 0 for a finite x and NaN for ±∞ or NaN.
  (func (export "allFinite") (param $x i32) (param $n i32) (result i32)
    (local $i i32) (local $wide i32) (local $v v128) (local $bad v128) (local $s f32)
    (local.set $wide (i32.and (local.get $n) (i32.const -4)))
    (block $wideDone
      (loop $wideLoop
        (br_if $wideDone (i32.ge_u (local.get $i) (local.get $wide)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $v (f32x4.sub (local.get $v) (local.get $v)))
        (local.set $bad (v128.or (local.get $bad) (f32x4.ne (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $wideLoop)))
    (if (v128.any_true (local.get $bad)) (then (return (i32.const 0))))
    (block $tailDone
      (loop $tailLoop
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $s (f32.sub (local.get $s) (local.get $s)))
        (if (f32.ne (local.get $s) (local.get $s)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tailLoop)))
    (i32.const 1))

  ;; One Adam step (Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015, Algorithm 1),
  ;; in the order of operations of tfjs-core's AdamOptimizer, each rounded to float32 as its kernels
  ;; round them, for i < n:
  ;;   m' = m·b1 + g·(1 − b1)      v' = v·b2 + (g·g)·(1 − b2)
  ;;   x' = ((m' / (1 − b1ᵗ)) / (√(v' / (1 − b2ᵗ)) + ε)) · (−lr) + x
  ;; $x, $g, $m, $v are read; $outX, $outM, $outV written (they may not overlap the inputs).
  (func (export "adam")
    (param $x i32) (param $g i32) (param $m i32) (param $v i32)
    (param $outX i32) (param $outM i32) (param $outV i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $oma1 f32) (param $oma2 f32) (param $eps f32) (param $nlr f32)
    (local $i i32) (local $k i32) (local $wide i32)
    (local $g4 v128) (local $m4 v128) (local $v4 v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $wide (i32.and (local.get $n) (i32.const -4)))
    (block $wideDone
      (loop $wideLoop
        (br_if $wideDone (i32.ge_u (local.get $i) (local.get $wide)))
        (local.set $k (i32.shl (local.get $i) (i32.const 2)))
        (local.set $g4 (v128.load (i32.add (local.get $g) (local.get $k))))
        (local.set $m4
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $k))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $g4) (f32x4.splat (local.get $omb1)))))
        (local.set $v4
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $k))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $g4) (local.get $g4)) (f32x4.splat (local.get $omb2)))))
        (v128.store (i32.add (local.get $outM) (local.get $k)) (local.get $m4))
        (v128.store (i32.add (local.get $outV) (local.get $k)) (local.get $v4))
        (v128.store (i32.add (local.get $outX) (local.get $k))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $m4) (f32x4.splat (local.get $oma1)))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $v4) (f32x4.splat (local.get $oma2)))) (f32x4.splat (local.get $eps))))
              (f32x4.splat (local.get $nlr)))
            (v128.load (i32.add (local.get $x) (local.get $k)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $wideLoop)))
    (block $tailDone
      (loop $tailLoop
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $k (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $k))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $k))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $omb1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $k))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $omb2))))
        (f32.store (i32.add (local.get $outM) (local.get $k)) (local.get $ms))
        (f32.store (i32.add (local.get $outV) (local.get $k)) (local.get $vs))
        (f32.store (i32.add (local.get $outX) (local.get $k))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $oma1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $oma2))) (local.get $eps)))
              (local.get $nlr))
            (f32.load (i32.add (local.get $x) (local.get $k)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tailLoop))))

  ;; out[i·cout + o] = Σ_r x[r·cin + i] · dy[r·cout + o] (xᵀ·dy: the filter gradient of a 1×1
  ;; convolution over rows pixels), r in order, each product rounded and then added; cin a multiple
  ;; of 4, cout of 8. The rows go in blocks of 256, small enough for the cache; within a block each
  ;; 4 × 8 tile of out is held in eight registers while the block's rows stream past it, so x and dy
  ;; are read where they lie, with no transpose and no packing.
  (func (export "outerSum")
    (param $x i32) (param $dy i32) (param $out i32) (param $rows i32) (param $cin i32) (param $cout i32)
    (local $r0 i32) (local $end i32) (local $r i32) (local $i i32) (local $o i32) (local $k i32)
    (local $xs i32) (local $ds i32) (local $xa i32) (local $da i32) (local $at i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $xs (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $ds (i32.shl (local.get $cout) (i32.const 2)))
    ;; Zero the output, four floats at a time (cin · cout is a multiple of 32).
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $k) (i32.mul (local.get $cin) (local.get $cout))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $zero)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $r0) (local.get $rows)))
        (local.set $end (select (i32.add (local.get $r0) (i32.const 256)) (local.get $rows)
          (i32.lt_u (i32.add (local.get $r0) (i32.const 256)) (local.get $rows))))
        (local.set $i (i32.const 0))
        (block $insDone
          (loop $ins
            (br_if $insDone (i32.ge_u (local.get $i) (local.get $cin)))
            (local.set $o (i32.const 0))
            (block $outsDone
              (loop $outs
                (br_if $outsDone (i32.ge_u (local.get $o) (local.get $cout)))
                ;; The tile out[i .. i+3][o .. o+7], row by row of out.
                (local.set $at (i32.add (local.get $out)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cout)) (local.get $o)) (i32.const 2))))
                (local.set $b1 (i32.add (local.get $at) (local.get $ds)))
                (local.set $b2 (i32.add (local.get $b1) (local.get $ds)))
                (local.set $b3 (i32.add (local.get $b2) (local.get $ds)))
                (local.set $a0 (v128.load (local.get $at)))
                (local.set $a1 (v128.load offset=16 (local.get $at)))
                (local.set $a2 (v128.load (local.get $b1)))
                (local.set $a3 (v128.load offset=16 (local.get $b1)))
                (local.set $a4 (v128.load (local.get $b2)))
                (local.set $a5 (v128.load offset=16 (local.get $b2)))
                (local.set $a6 (v128.load (local.get $b3)))
                (local.set $a7 (v128.load offset=16 (local.get $b3)))
                (local.set $xa (i32.add (local.get $x)
                  (i32.shl (i32.add (i32.mul (local.get $r0) (local.get $cin)) (local.get $i)) (i32.const 2))))
                (local.set $da (i32.add (local.get $dy)
                  (i32.shl (i32.add (i32.mul (local.get $r0) (local.get $cout)) (local.get $o)) (i32.const 2))))
                (local.set $r (local.get $r0))
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $end)))
                    (local.set $d0 (v128.load (local.get $da)))
                    (local.set $d1 (v128.load offset=16 (local.get $da)))
                    (local.set $s (v128.load32_splat (local.get $xa)))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=4 (local.get $xa)))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=8 (local.get $xa)))
                    (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=12 (local.get $xa)))
                    (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $xa (i32.add (local.get $xa) (local.get $xs)))
                    (local.set $da (i32.add (local.get $da) (local.get $ds)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rowLoop)))
                (v128.store (local.get $at) (local.get $a0))
                (v128.store offset=16 (local.get $at) (local.get $a1))
                (v128.store (local.get $b1) (local.get $a2))
                (v128.store offset=16 (local.get $b1) (local.get $a3))
                (v128.store (local.get $b2) (local.get $a4))
                (v128.store offset=16 (local.get $b2) (local.get $a5))
                (v128.store (local.get $b3) (local.get $a6))
                (v128.store offset=16 (local.get $b3) (local.get $a7))
                (local.set $o (i32.add (local.get $o) (i32.const 8)))
                (br $outs)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $ins)))
        (local.set $r0 (local.get $end))
        (br $blocks))))

  ;; out[r·n + j] = bias[j] + Σ_t a[r·k + t] · b[t·n + j] (a·b for a of m × k and b of k × n, plus
  ;; a bias row, or 0 where $bias is 0), t in order, each product rounded and then added; n a
  ;; multiple of 8. The rows go in blocks of 64, small enough for the cache; within a block each
  ;; 4 × 8 tile of out is held in eight registers while the tile's column slice of b streams past,
  ;; and leftover rows (m not a multiple of 4) go one at a time. Nothing is packed or transposed.
  (func (export "rowsTimes")
    (param $a i32) (param $b i32) (param $bias i32) (param $out i32) (param $m i32) (param $k i32) (param $n i32)
    (local $r0 i32) (local $end i32) (local $r i32) (local $j i32) (local $t i32)
    (local $as i32) (local $bs i32) (local $pa i32) (local $pb i32) (local $at i32) (local $tiles i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128) (local $z0 v128) (local $z1 v128)
    (local.set $as (i32.shl (local.get $k) (i32.const 2)))
    (local.set $bs (i32.shl (local.get $n) (i32.const 2)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $r0) (local.get $m)))
        (local.set $end (select (i32.add (local.get $r0) (i32.const 64)) (local.get $m)
          (i32.lt_u (i32.add (local.get $r0) (i32.const 64)) (local.get $m))))
        ;; Rows r0 .. tiles − 1 go four at a time, the rest of the block one at a time.
        (local.set $tiles (i32.add (local.get $r0) (i32.and (i32.sub (local.get $end) (local.get $r0)) (i32.const -4))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
            (if (local.get $bias)
              (then
                (local.set $z0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $z1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
              (else
                (local.set $z0 (v128.const i32x4 0 0 0 0))
                (local.set $z1 (v128.const i32x4 0 0 0 0))))
            (local.set $r (local.get $r0))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.ge_u (local.get $r) (local.get $tiles)))
                (local.set $a0 (local.get $z0)) (local.set $a1 (local.get $z1))
                (local.set $a2 (local.get $z0)) (local.set $a3 (local.get $z1))
                (local.set $a4 (local.get $z0)) (local.set $a5 (local.get $z1))
                (local.set $a6 (local.get $z0)) (local.set $a7 (local.get $z1))
                (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $as))))
                (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $t (i32.const 0))
                (block $innerDone
                  (loop $inner
                    (br_if $innerDone (i32.ge_u (local.get $t) (local.get $k)))
                    (local.set $b0 (v128.load (local.get $pb)))
                    (local.set $b1 (v128.load offset=16 (local.get $pb)))
                    (local.set $s (v128.load32_splat (local.get $pa)))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $b0))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $b1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $pa) (local.get $as))))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $b0))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $b1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $pa) (i32.shl (local.get $as) (i32.const 1)))))
                    (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $b0))))
                    (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $b1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $pa) (i32.mul (local.get $as) (i32.const 3)))))
                    (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $b0))))
                    (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $b1))))
                    (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $bs)))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $inner)))
                (local.set $at (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $j)) (i32.const 2))))
                (v128.store (local.get $at) (local.get $a0))
                (v128.store offset=16 (local.get $at) (local.get $a1))
                (local.set $at (i32.add (local.get $at) (local.get $bs)))
                (v128.store (local.get $at) (local.get $a2))
                (v128.store offset=16 (local.get $at) (local.get $a3))
                (local.set $at (i32.add (local.get $at) (local.get $bs)))
                (v128.store (local.get $at) (local.get $a4))
                (v128.store offset=16 (local.get $at) (local.get $a5))
                (local.set $at (i32.add (local.get $at) (local.get $bs)))
                (v128.store (local.get $at) (local.get $a6))
                (v128.store offset=16 (local.get $at) (local.get $a7))
                (local.set $r (i32.add (local.get $r) (i32.const 4)))
                (br $quads)))
            (block $singlesDone
              (loop $singles
                (br_if $singlesDone (i32.ge_u (local.get $r) (local.get $end)))
                (local.set $a0 (local.get $z0)) (local.set $a1 (local.get $z1))
                (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $as))))
                (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $t (i32.const 0))
                (block $oneDone
                  (loop $one
                    (br_if $oneDone (i32.ge_u (local.get $t) (local.get $k)))
                    (local.set $s (v128.load32_splat (local.get $pa)))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $pb)))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pb)))))
                    (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
                    (local.set $pb (i32.add (local.get $pb) (local.get $bs)))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $one)))
                (local.set $at (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $j)) (i32.const 2))))
                (v128.store (local.get $at) (local.get $a0))
                (v128.store offset=16 (local.get $at) (local.get $a1))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $singles)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $r0 (local.get $end))
        (br $blocks))))
)
