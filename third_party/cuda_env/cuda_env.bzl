"""Repository rule that finds nvcc and the CUDA runtime, for the CUDA kernels.

TENSORCODER_CUDA (set with --config=cuda / --config=nocuda, see .bazelrc)
decides: "1" requires nvcc, "0" builds without CUDA, anything else (the
default) uses CUDA when nvcc is found on PATH or in /usr/local/cuda/bin.
Generates @cuda_env//:config.bzl with HAS_CUDA and NVCC, and the target
@cuda_env//:cudart (headers and the static CUDA runtime).
"""

def _cuda_env_impl(ctx):
    mode = ctx.os.environ.get("TENSORCODER_CUDA", "auto")
    nvcc = ctx.which("nvcc")
    if ctx.path("/usr/local/cuda/bin/nvcc").exists:
        nvcc = ctx.path("/usr/local/cuda/bin/nvcc")
    if mode == "1" and nvcc == None:
        fail("--config=cuda needs nvcc on PATH or in /usr/local/cuda/bin")
    has_cuda = nvcc != None and mode != "0"
    build = ["package(default_visibility = [\"//visibility:public\"])", ""]
    nvcc_path = ""
    if has_cuda:
        nvcc_path = str(nvcc)
        cuda_home = nvcc.dirname.dirname
        if not cuda_home.get_child("include").get_child("cuda_runtime.h").exists:
            cuda_home = nvcc.realpath.dirname.dirname
        if not cuda_home.get_child("include").get_child("cuda_runtime.h").exists:
            fail("found nvcc at %s but no include/cuda_runtime.h beside it" % nvcc)
        ctx.symlink(cuda_home.get_child("include"), "include")
        lib = cuda_home.get_child("lib64")
        build += [
            "cc_library(",
            "    name = \"cudart\",",
            "    hdrs = glob([\"include/**/*.h\", \"include/**/*.hpp\"]),",
            "    includes = [\"include\"],",
            "    linkopts = [\"-L%s\", \"-l:libcudart_static.a\", \"-ldl\", \"-lrt\", \"-lpthread\"]," % lib,
            ")",
        ]
    else:
        build += ["cc_library(name = \"cudart\")"]
    ctx.file("BUILD", "\n".join(build) + "\n")
    ctx.file("config.bzl", "HAS_CUDA = %s\nNVCC = %s\n" % (has_cuda, repr(nvcc_path)))

cuda_env_repository = repository_rule(
    implementation = _cuda_env_impl,
    environ = ["PATH", "TENSORCODER_CUDA"],
    local = True,
)
