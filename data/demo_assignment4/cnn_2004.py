def same_padding(kernel)
    return kernel // 2
