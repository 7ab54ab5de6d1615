print("qila")
