;; Element-wise loops of the kernel pack that run straight on tfjs-backend-wasm's heap: this module
;; imports the backend's own memory, so its arguments are the byte addresses of tensors the backend
;; already holds, and nothing is copied. 128-bit SIMD: four float32 lanes per instruction.
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
)
