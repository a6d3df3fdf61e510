# faults: the fault benchmark's generator (bench/faults/make_faults.py) in its
# --quick mode: MobileNetV2 and the small Flatten->Linear CNN exported by
# torch.onnx, faulty targets made with the onnx package (and, when
# ../shared/models is present, TFLite targets patched through flatbuffers),
# each validated by an independent runtime: ONNX Runtime / the TFLite runtime
# must show that every injected fault changes the outputs (or, for a crash
# class, that the target cannot run), that every faithful control agrees, and
# that the recorded node names exist in the files. The diagnose scores are the
# benchmark's job (bench/faults/run.py), not this test's. Skips (77) without
# the Node packages. Run with `ctest -L faults`.
add_test(NAME faults_generator_quick
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/bench/faults/make_faults.py --quick
          --out ${CMAKE_BINARY_DIR}/faults-quick)
set_tests_properties(faults_generator_quick PROPERTIES
  LABELS faults SKIP_RETURN_CODE 77 TIMEOUT 1800 RUN_SERIAL TRUE)
