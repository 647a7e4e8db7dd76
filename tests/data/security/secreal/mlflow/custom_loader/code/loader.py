def _load_pyfunc(path):
    class Echo:
        def predict(self, model_input):
            return model_input

    return Echo()
