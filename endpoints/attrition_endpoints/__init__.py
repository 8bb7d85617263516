"""A local SageMaker endpoint service: SageMaker's endpoint API on 127.0.0.1, real containers of
the image as instances, HAProxy in front of them."""
