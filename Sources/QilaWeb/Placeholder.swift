enum _QilaWebPlaceholder {}
